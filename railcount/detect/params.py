"""Detector parameters: one frozen record, stored with every count so any number can be reproduced.

Every length is in metres on the ground; the detector converts to pixels with
the window's ground sample distance, so nothing is tuned per scene.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from railcount.cautions import STRETCH_BOTH_SHARE, STRETCH_CLIP_SHARE

DETECTOR_VERSION = "0.6.33"


def to_px(metres: float, gsd_m: float, minimum: int = 1) -> int:
    """A ground length in whole pixels (at least ``minimum``).

    >>> to_px(2.5, 0.5), to_px(0.1, 1.0)
    (5, 1)
    """
    return max(minimum, round(float(metres) / gsd_m))


@dataclass(frozen=True)
class DetectorParams:
    """Physical priors and decision thresholds of the classical detector.

    Attributes
    ----------
    car_width_m : float
        Width of the car-body band looked for. Bodies are 3.0-3.3 m wide;
        a little less works better because their edges are blurred.
    car_length_min_m, car_length_max_m : float
        Shortest and longest single railcar accepted (coupler to coupler).
    default_pitch_m : float
        Car pitch (length plus coupling gap) assumed when a scene gives no
        measurable single cars.
    work_gsd_m : float
        Finer imagery is averaged down to this ground sample distance before
        detection (detections are mapped back to the window's pixels).
    max_gsd_m : float
        The coarsest ground sample distance counted (detector 0.6.25): a
        scene with coarser pixels is refused
        (:class:`~railcount.errors.TooCoarseError`), not counted. Made
        coarser by averaging, generated yards were counted 13 / 18 / 25 /
        29 % off (nearly all low) at 1.1 / 1.15 / 1.2 / 1.25 m and Muttenz west 33 / 44 /
        65 / 87 % low, its interval holding the truth up to 1.15 m and not
        from 1.2 m; at 3 m nothing was found (``benchmarks/real_gsd.py``,
        session 67).
    max_directions : int
        Most track directions looked for in one window.
    crop_frames : bool
        Cut each track direction's frame to the rectangle around the blocks
        whose gradients lie across that direction
        (:func:`~railcount.detect.regions.direction_regions`), widened by
        ``frame_margin_m``, instead of rotating the whole window (detector
        0.6.8). Saves the fields and the other direction's yard.
    frame_margin_m : float
        How far (metres) the cut frame reaches beyond those blocks.
    refine_directions : bool
        Refine each track direction by the sharpness of its edges'
        cross-track profile (see
        :func:`~railcount.detect.orientation.track_directions`). Off: measured
        in session 21 with the models refitted, it moved the counts of no
        suite for the better and put the bundled 2023-10-05 sample at 91
        against 73 (docs/detector.md, *Session 21*).
    direction_min_share : float
        A secondary direction is searched (in the whole window when no
        patch of blocks runs that way) when its gradient energy is at least
        this share of the strongest.
    weak_direction_min_share : float
        A weaker secondary direction, down to this share, is searched only
        in its patches (with ``crop_frames``): meant for a branch of a few
        tracks leaving a large yard at another angle. Off (equal to
        ``direction_min_share``): at 0.1 it found those branches, but its
        frames answer for every candidate in them, and on the v2 Tumangang
        yards they took the shadows of masts crossing the yard for cars (+1
        point of count error on tuned v2 0-99, +13 false railcars on the 40
        held-out look-alike blocks); curve pieces (``curve_pieces``) find
        the same branches and answer only for the cars on their own stretch
        (docs/detector.md, *Session 22*).
    curve_pieces : bool
        Search stretches of track that run off every direction found (the
        curves of a yard or a branch) in frames of their own, each
        answering for the cars on its stretch
        (:func:`~railcount.detect.regions.curve_pieces`; detector 0.6.9).
    piece_margin_m : float
        How far (metres) a curve piece's frame reaches beyond its blocks.
    piece_side_from_main : bool
        With the time of day unknown (the sun assumed), a curve piece
        within ``piece_side_max_deg`` of a main direction reads its
        shadows on the side of the window that direction's frame chose,
        instead of choosing from its own lit bodies: one sun lights the
        window, and a piece's evidence is the small, noisy part. The main
        frames are then read first, the pieces after. Off by default:
        measured in session 61 and not shipped (Muttenz west made coarser
        counts what it counts with the true shadows' bearing, the same
        wagons with fewer false boxes, 0.75 m precision 0.81 -> 0.93, but
        its count runs lower, 20 -> 31 % low; generated yards counted with
        their date alone as before or better). Counts made with a known
        time (or ``--shadows-toward``) are the same either way.
    piece_side_max_deg : float
        See ``piece_side_from_main``.
    weak_direction_block_share : float
        A weak direction's patches are made of blocks with at least this
        share of their gradient energy across it (strong directions:
        :data:`~railcount.detect.regions.MIN_SHARE`, 0.6). Tracks are
        that orderly; the edges of a housing estate are not (Joplin's lot
        polygon made a weak direction's patch of its whole window at 0.6,
        and two false cars on house walls).
    along_smooth_m : float
        Along-track smoothing before judging a band.
    flank_width_m : float
        Width of the flank bands hugging each long side of a car body, where
        the colour step to the ground and the shadow-dark share beside the
        car are read (0.8 m until detector 0.5.2). In dense yards a wider
        flank reaches the neighbouring car's shadow: at 0.5 m it rounded to
        two pixels (1.0 m).
    side_ratio : float
        How clear a track frame's own evidence of lit car bodies must be to overrule the side the sun
        gives its shadows: the weaker side's squared evidence at most this share of the stronger's
        (:func:`~railcount.detect.cars.choose_side`; 0.8 and 1.0 for every scene were measured worse
        in session 8).
    assumed_side_ratio : float or None
        ``side_ratio`` where the sun's time of day is assumed (a date only); None: ``side_ratio``. A
        switch, off: at 0.8 the Joplin lot reads 0-2 false railcars with any margin around its
        station (11-16 with margins other than the default 25 m) and the real scenes made coarser
        as before or better, but generated yards counted with their date alone, drawn near the
        assumed hour, read some frames on the wrong side (tuned plain 600-639: F1 0.92 -> 0.86;
        session 69, ``benchmarks/margins.py``, ``benchmarks/untimed.py``).
    edged_fallback : bool
        Where no shadow side can be told (the sun along the tracks, or the
        acquisition time unknown and the lit bodies not clearly on one
        side), look for *edged bands* and keep them unscored (detector
        0.5.3 and before). Off (from 0.5.4), the side with more evidence of
        lit bodies is taken and the car model judges the candidates as
        anywhere else: the edged bands made half the false railcars on the
        generated look-alike blocks, and on a slightly softened copy of the
        real Joplin scene 42.
    min_side_contrast : float
        Colour step (RGB distance, stretched 0-1 units) on each long side of a
        car body that gives full edge evidence.
    shadow_ratio : float
        A pixel is in shadow when its linear luminance (no offset removed) is
        below this share of the sunlit ground near it (the brightest 1 m
        patch within about 5 m). Cast shadows sit near 0.25-0.35, dark track
        beds near 0.45-0.5: a narrow margin (see docs/detector.md).
    neighbour_shadow : bool
        A lit car's sun-side flank may be dark when the shadow of a car one
        track over (``neighbour_spacing_m``, centre to centre) falls across
        it: the middle of the gap is dark and the band a spacing over is lit
        (:meth:`~railcount.detect.cars.BandMaps.neighbour_cast`). Without
        it such a car has no band evidence, and cars on the shadow side of
        an occupied track are missed. On since detector 0.6.11, with
        ``neighbour_believed``; alone (sessions 17-20) it mended those cars
        but added false ones on pitched roofs (docs/detector.md, *Cars in
        the shadow of the next track* and *Session 25*).
    neighbour_spacing_m : tuple of float
        See ``neighbour_shadow``.
    neighbour_max_gsd_m : float
        ``neighbour_shadow`` applies at this GSD and finer (where coupling
        gaps are seen; coarser, it added false cars and lost others).
    neighbour_believed : bool
        With ``neighbour_shadow``: a candidate whose sun-side flank is dark
        (its ``dark_sun`` input at least ``neighbour_dark_sun``, 0.25: the
        cars it mends read 0.7-1.0, most of the false ones it let onto
        look-alike blocks 0.3-0.5) is kept
        only when a car the car model believes, with a lit sun-side flank,
        stands one track over on its sun side (``neighbour_across_m``
        centre to centre, overlapping it along the track by at least
        ``neighbour_overlap`` of the shorter) to cast that shadow. Such a
        car and its neighbour are told apart by ``neighbour_merge_radius_m``
        instead of ``merge_radius_m``. Session 25 (docs/detector.md).
    neighbour_dark_sun, neighbour_across_m, neighbour_overlap, neighbour_merge_radius_m
        See ``neighbour_believed``.
    neighbour_on_snow : bool
        Whether ``neighbour_shadow`` applies on snow-covered windows (with
        ``snow_shadow_ratio``). Off: there many true cars read a partly
        dark sun-side flank, and ``neighbour_believed`` dropped the lone
        ones (session 25).
    snow_min_share : float
        A window counts as snow-covered when at least this share of its
        valid pixels is bright and grey (``Prepared.snow_share``).
    snow_shadow_ratio : float
        ``shadow_ratio`` used on snow-covered windows: snow lights its own
        shadows with skylight, so they sit at 0.40-0.50 of the sunlit snow
        rather than 0.25-0.35 of sunlit ground, and no dark track bed is
        left to confuse with them.
    sunlit_reach_m : float
        The sunlit level a pixel is compared with is the brightest 1 m patch
        within this distance. It must reach past a car and its shadow: with
        2.5 m, the middle of a winter shadow (8-12 m with its car) found no
        sunlit ground and did not count as dark.
    haze_floor : float or None
        Linear luminance below which the darkest 0.1 % of a clear window's
        pixels lie (deep shadow; 0.06-0.10 on generated plain scenes). When a
        window has almost no shadow-dark pixels and its floor is above this,
        the excess is taken as haze and subtracted (see ``prepare``). None
        turns the correction off.
    haze_floor_ratio : float or None
        Where even the darkest 0.1 % of such a window is brighter than 0.45
        of its median (nothing in it reads as shadow), the haze is taken as
        what puts that floor at this share of the median, as on clear
        windows (0.235: the median over clear generated v2 windows, 0.17-0.31
        by product), instead of what lifts it above ``haze_floor``: haze
        adds light to shadow and sunlit ground alike, and the old excess
        left the shadows of hazy yards too pale to find (detector 0.6.12,
        docs/detector.md, *Session 26*). None keeps the old excess.
    level_floor_ratio : float or None
        A window whose 1st percentile of linear luminance lies under this
        share of its lower quartile (``prepare.LEVEL_REFERENCE_PCT``; a
        product's contrast stretch took an offset off and put its shadows
        near black) is lifted to ``prepare.LEVEL_LOW_RATIO`` of it, as on
        clear windows (``prepare._levelled``). 0.25 since detector 0.6.29
        (session 74): no generated yard as made, tuned or held out, nor any
        real scene reads under it (the least 0.26, Muttenz west 0.31), and
        stretches too light to clip much (from the 0.02nd-0.1th percentile
        of a file) read down to 0.07 (Muttenz west 0.19-0.23). Against the
        median, as session 72 tried it, opaque cloud set it off. None: off.
    level_max_median : float or None
        An experiment (session 72), off (None) by default: a window whose
        median is above this (a stretch that brightened it) is scaled down
        to it (``prepare._levelled``); it hurt snow scenes.
    stretch_clip_share : float or None
        From this share of a colour band's valid pixels at the bottom of
        the file's value range the window reads as contrast-stretched (a
        product's stretch clipped its darkest tones to black), and each band
        whose 1st percentile lies under 0.25 of its median is given back the
        offset that puts it there, white kept, and the detector's colour
        stretch starts from the bottom of the range (:mod:`railcount.detect.stretch`;
        detector 0.6.28, session 73). ``cautions.STRETCH_CLIP_SHARE`` (0.25 %):
        above the most any generated window as made shows (0.16 %). None: never.
    stretch_both_share : float or None
        A window with less black than ``stretch_clip_share`` is lifted all
        the same where a colour band holds this share at the bottom of the
        value range and one holds as much at the top: a stretch clips both
        ends (session 74). ``cautions.STRETCH_BOTH_SHARE`` (0.08 %): above
        the most any generated window as made shows at both ends (0.05 %),
        under Muttenz west stretched from the 0.5th percentile (0.11 %
        white, 0.19-0.25 % black). None: only the black share counts.
    mask_cloud : bool
        Take opaque cloud out of the counted window
        (:mod:`railcount.detect.cloud`, applied by the pipeline after
        ``detect``): the cars it hides are not guessed, detections under it
        are dropped, ``observed_fraction`` drops and the interval widens
        upwards.
    mask_cloud_shadow : bool
        With ``mask_cloud``, take a wide shadow (a cloud's, or a tall
        building's; :func:`railcount.detect.cloud.cloud_shadow`) out of
        ``observed_fraction`` too, keeping the cars found in it (0.6.26).
    max_roof_texture : float
        Mean |Laplacian| of log luminance above which a band is too textured
        to be a roof (rails and ballast show through).
    texture_gsd_power : float
        Coarser than 0.6 m, ``max_roof_texture`` is multiplied by
        (GSD / 0.6 m) to this power.
    dark_along_texture : float
        Above 0, a shadow-dark body band on rough ground with its own shadow
        beyond has its texture read along the track, this many times the mean
        |second derivative along it| (:func:`railcount.detect.cars.dark_body_texture`);
        0 (the default) leaves the texture as it is. Measured, not shipped.
    dark_relief_max_gsd_m : float
        The coarsest GSD ``dark_along_texture`` applies at (where coupling
        gaps are resolved).
    min_band_strength : float
        Band evidence (0-1) a centreline must exceed to be part of a car.
    run_smooth_m : float
        At ``gap_visible_gsd_m`` and finer, the band evidence is averaged
        along the track over this length (metres) before centrelines are
        traced; 0 traces them on the evidence itself (detector 0.5.1).
    gap_visible_gsd_m : float
        At this ground sample distance and finer, coupling gaps are resolved
        and cut runs into cars; coarser, runs are counted by pitch. Set between
        the nominal 0.6 and 0.75 m products, since a nominal GSD measures a
        little over itself on the ground.
    bridge_gap_m : float
        Coarser than ``gap_visible_gsd_m``, breaks up to this long in a car
        centreline are bridged before runs are counted by pitch.
    centreline_wobble_m : float
        A centreline may step across the track by this much (metres, at
        least one row) and still be one run, so that a roof whose evidence
        has two ridges about 0.6 m apart gives one car, not pieces too short
        for one (the run's score is scaled back to a three-row band). The
        default, 0.6 m, is two rows at 0.3 m and one row at 0.5 m and
        coarser; the shipped models were fitted with it (detector 0.6.5).
        0 is one row at every GSD, as detector 0.6.4; changing it needs
        the models refitted (``benchmarks/fit_car_model.py``).
    max_uncut_run_m : float
        Where gaps are resolved, a run longer than this with no cut at all is
        rejected.
    classify_types : bool
        Classify kept railcars as tank / covered / open / flat with the
        fitted type models (:mod:`railcount.detect.types`), and call tarped
        loads. A car whose most probable class is below
        ``min_type_probability`` stays ``railcar`` (unclassified).
    min_type_probability : float
        See ``classify_types``.
    min_tarp_probability : float
        A railcar is called tarped (and a flat car) when the tarp model gives
        it at least this. 0.25 (0.3 before detector 0.6.17's trees): where the
        models fitted on half the tuned scenes call about as many tarps on the
        other half as there are at 0.3-0.5 m (1,041 called, 781 rightly, of
        1,064).
    tarps_on_fills : bool
        Whether a car counted in a hole of a consist (``method`` ``fill``) may
        be called tarped. Off since detector 0.6.19: the type models are fitted
        on the candidates the band evidence proposes, never on fills, and on
        tuned scenes 600-799 (fitted on by no model) 12 of the 120 tarp calls on
        fills at 0.3-0.5 m were right (plain and v2 yards; 4 of 39 and 8 of 81),
        where the other calls were right one time in two. A fill keeps its
        type otherwise (right about two times in three there).
    locomotives_on_fills : bool
        Whether a car counted in a hole of a consist may be called a
        locomotive (and so taken out of the railcar count). Off since detector
        0.6.19: the locomotive model is fitted with the car model on the
        candidates the band evidence proposes, never on fills, and on tuned
        scenes 600-799 (fitted on by no model) none of its 50 calls on fills
        was a locomotive (plain 5, v2 45, of 167 and 145 calls in all); without
        them the railcar counts are the same but for those cars (plain 9,405
        -> 9,410, v2 8,523 -> 8,568; weighted error 7.0 and 15.2 % either way).
    car_model : bool
        Score candidates with the fitted car model (boosted trees,
        :mod:`railcount.detect.candidates`) and keep those at or above
        ``min_car_probability``. Off, candidates keep their band strength as
        score (as in detector 0.1; used to fit the model).
    min_car_probability : float
        Candidates the car model gives less than this are dropped (0.3 until
        detector 0.5.1; 0.35 from 0.5.2, chosen with the models fitted on
        half the tuned scenes and scored on the other half, the look-alike
        blocks and the real scenes).
    short_car_m, min_short_car_probability : float
        A candidate shorter than ``short_car_m`` (shorter than nearly every
        railcar) is kept only from ``min_short_car_probability``: its length
        is evidence against it (detector 0.6.2).
    along_model, min_along_probability : bool, float
        Where the sun (at a known time) throws the shadows along a track
        direction, so no shadow lies beside its cars, read the band evidence
        with the shadows on each side in turn and judge what both readings
        propose with the along model (boosted trees fitted on such
        candidates of generated yards of other layouts, ``along_model.py``),
        keeping those it gives at least ``min_along_probability`` (detector
        0.6.15). Off, the side with more evidence of lit bodies is taken and
        the car model judges as anywhere else (0.6.14 and before).
    short_shadow_along_px, short_shadow_along_max_gsd_m : float
        Where the shadow a 4 m car casts across a direction's tracks is
        shorter than ``short_shadow_along_px`` pixels (a high sun, or shadows
        a little more than 17 degrees off the track) at a GSD no coarser than
        ``short_shadow_along_max_gsd_m``, the shadow band beside the cars is
        too thin to find them by: such a direction is read as one the sun
        shines along is, on the side the sun gives (with the edged bands near
        the dashes the shadows leave along the track, no gap fills) and
        judged by the along model (detector 0.6.21). 0 turns it off
        (0.6.20). Coarser imagery keeps its own reading: there the along
        reading lost more cars than it found (generated yards of other
        layouts at 1.0 m: 33.8 -> 37.3 % error).
    along_edged : bool
        In those readings, also propose smooth bands with a colour step on
        both long sides (edged bands) on the frame rows where a car's shadow
        leaves a dark dash along the track within a car length
        (:mod:`railcount.detect.dashes`); the along model then reads the
        dashes at each candidate's ends (detector 0.6.16). Off: 0.6.15's
        readings (the along model still reads the dashes).
    along_dash_ratio, along_dash_share, along_dash_max_m : float
        A dash: pixels darker than ``along_dash_ratio`` of the sunlit ground
        near them over at least ``along_dash_share`` of a band 0.6 of a car
        wide, for less than ``along_dash_max_m`` along the track.
    localise_roofs : bool
        Describe each candidate also ``roof_shift_m`` to either side across
        the track and move it to whichever of the three positions the fitted
        roof model (:mod:`railcount.detect.roofs`) most believes is on a
        roof, when that beats its own row by more than ``roof_margin``.
        Off, candidates stay where the band evidence found them (used to fit
        the roof model).
    roof_shift_m : float
        See ``localise_roofs``: about a roof width, the distance between a
        car and the shadow band or sunlit strip taken for it.
    roof_margin : float
        See ``localise_roofs``.
    locomotive_model : bool
        Call a kept candidate a locomotive (counted apart from railcars)
        when the fitted locomotive model gives it at least
        ``min_locomotive_probability``.
    min_locomotive_probability : float
        See ``locomotive_model``.
    gap_contrast : float
        Minimum along-track contrast (log units) of a coupling gap.
    min_score : float
        Detections below this confidence are dropped.
    fill_gaps : bool
        Propose cars in the holes of each track line between two candidates
        the car model believes (at least 0.7 of the line's pitch and at most
        ``fill_max_m`` long, as many cars as fit) and, with ``fill_ends``,
        one pitch beyond each end of a line; keep those the fitted fill model
        (:mod:`railcount.detect.fill`) gives at least
        ``min_fill_probability`` (detector 0.6.0). Needs ``car_model``.
    fill_max_m : float
        See ``fill_gaps``.
    fill_ends : bool
        See ``fill_gaps``.
    fill_pitch_from_spacing : bool
        How many cars a hole takes, and how far beyond a line's end its end
        car is proposed, from the distance between the centres of the line's
        coupled cars (detector 0.6.20), not from the length of their boxes,
        which often stop short of the cars' ends (see
        :func:`railcount.detect.fill.gap_fills`). On tuned plain scenes
        600-799 (fitted on by no model), at 0.3-0.5 m, fills were about half
        of the false railcars beside a found car on its own track, and two
        fills sharing a hole that held one car a quarter; ``false`` gives
        0.6.19's fills.
    min_fill_end_probability : float
        A car proposed beyond the end of a line, which has a believed car on
        one side only, is kept from this (detector 0.6.3; before, from
        ``min_fill_probability`` like a car in a hole).
    min_fill_probability : float
        See ``fill_gaps``: 0.2 (the floor ``min_score`` sets anyway), chosen
        with ``benchmarks/folds.py`` from 0.5, 0.35, 0.25 and 0.2 once
        duplicates are merged as below; before that merge, 0.2 over-counted
        the plain scenes.
    merge_placed : bool
        Merge duplicates (greedy, strongest first) where the roof model has
        placed the boxes, not where the band evidence found them (detector
        0.6.0): two runs on one car, found a roof width apart, are placed
        on the same roof.
    merge_radius_m : float or None
        A detection within this distance of a stronger one is its duplicate
        (in any track direction). None: half of ``car_length_min_m`` (5 m),
        which also merges cars side by side on tracks 4.5-5 m apart when
        they stand level along the track (3.6 m keeps them; measured with
        ``neighbour_shadow`` in session 17, not the default).
    merge_across_m, merge_along : float
        Besides any centre within half a short car, a detection is a
        duplicate of a stronger one in the same track direction when it lies
        less than ``merge_across_m`` across the track from it and less than
        ``merge_along`` of their mean length along it (the same car cut at
        another place). ``merge_across_m`` 0 turns this off (before 0.6.0).
    snap_joints_contrast : float or None
        Coarser than ``gap_visible_gsd_m``, a run longer than a car is
        counted by pitch and cut into equal pieces, which the models judge.
        The boxes of the pieces kept are then drawn between the run's joints
        moved to the strongest colour step (``gap_signal`` above this)
        within a third of a piece (detector 0.6.1), so they sit on the cars,
        not across their joints. Only where the boxes go changes (and so
        which two boxes merge, and where a car's type is read); the count is
        decided on the equal pieces.
        None keeps the boxes on the equal pieces (before 0.6.1).
    exemplar_rescue : bool
        Keep a candidate the car model turned down (from
        ``rescue_min_probability``) when a car-aligned patch of the
        image round it correlates at least ``rescue_min_similarity`` with
        those round the scene's own confident cars (the ``exemplar_top``
        best of at least ``exemplar_min_count`` kept cars of its direction
        the model gave ``exemplar_min_probability`` or more) and it stands in
        a chain of at least ``rescue_chain`` candidates end to end on one
        line (:mod:`railcount.detect.exemplars`). The patch reaches
        ``exemplar_along_m`` either way along the track and
        ``exemplar_across_m`` across it. Off by default: measured in
        session 60 and not shipped (Muttenz west made coarser to 0.75 /
        1.0 m 20 / 49 -> 15 / 44 % low, but on the held-out harder
        generated yards at 0.75-1.0 m it adds false railcars and finds no
        car; ``docs/detector.md``, *Session 60*).
    exemplar_min_probability, rescue_min_probability, rescue_min_similarity : float
        See ``exemplar_rescue``.
    exemplar_min_count, rescue_chain, exemplar_top : int
        See ``exemplar_rescue``.
    exemplar_along_m, exemplar_across_m : float
        See ``exemplar_rescue``.
    """

    car_width_m: float = 2.9
    car_length_min_m: float = 10.0
    car_length_max_m: float = 24.0
    default_pitch_m: float = 16.0
    work_gsd_m: float = 0.3
    max_gsd_m: float = 1.1
    max_directions: int = 4
    crop_frames: bool = True
    refine_directions: bool = False
    frame_margin_m: float = 30.0
    direction_min_share: float = 0.45
    weak_direction_min_share: float = 0.45
    weak_direction_block_share: float = 0.8
    curve_pieces: bool = True
    piece_margin_m: float = 15.0
    piece_side_from_main: bool = False
    piece_side_max_deg: float = 30.0
    along_smooth_m: float = 2.5
    flank_width_m: float = 0.5
    edged_fallback: bool = False
    side_ratio: float = 0.6
    assumed_side_ratio: float | None = None
    min_side_contrast: float = 0.2
    shadow_ratio: float = 0.45
    sunlit_reach_m: float = 4.0
    neighbour_shadow: bool = True
    neighbour_spacing_m: tuple[float, ...] = (4.2, 4.8, 5.4, 6.0)
    neighbour_max_gsd_m: float = 0.65
    neighbour_believed: bool = True
    neighbour_on_snow: bool = False
    neighbour_dark_sun: float = 0.25
    neighbour_across_m: tuple[float, float] = (3.6, 6.6)
    neighbour_overlap: float = 0.25
    neighbour_merge_radius_m: float = 3.6
    snow_min_share: float = 0.5
    snow_shadow_ratio: float = 0.55
    haze_floor: float | None = 0.11
    haze_floor_ratio: float | None = 0.235
    level_floor_ratio: float | None = 0.25
    level_max_median: float | None = None
    stretch_clip_share: float | None = STRETCH_CLIP_SHARE
    stretch_both_share: float | None = STRETCH_BOTH_SHARE
    mask_cloud: bool = True
    mask_cloud_shadow: bool = True
    max_roof_texture: float = 1.25
    texture_gsd_power: float = 2.0
    dark_along_texture: float = 0.0
    dark_relief_max_gsd_m: float = 0.65
    min_band_strength: float = 0.4
    run_smooth_m: float = 3.0
    gap_visible_gsd_m: float = 0.65
    bridge_gap_m: float = 2.0
    centreline_wobble_m: float = 0.6
    max_uncut_run_m: float = 60.0
    classify_types: bool = True
    min_type_probability: float = 0.5
    min_tarp_probability: float = 0.25
    tarps_on_fills: bool = False
    locomotives_on_fills: bool = False
    car_model: bool = True
    min_car_probability: float = 0.35
    short_car_m: float = 9.0
    min_short_car_probability: float = 0.5
    along_model: bool = True
    min_along_probability: float = 0.5
    short_shadow_along_px: float = 2.0
    short_shadow_along_max_gsd_m: float = 0.65
    along_edged: bool = True
    along_dash_ratio: float = 0.45
    along_dash_share: float = 0.8
    along_dash_max_m: float = 8.0
    localise_roofs: bool = True
    roof_shift_m: float = 3.1
    roof_margin: float = 0.0
    locomotive_model: bool = True
    min_locomotive_probability: float = 0.5
    gap_contrast: float = 0.08
    min_score: float = 0.2
    fill_gaps: bool = True
    merge_placed: bool = True
    merge_radius_m: float | None = None
    merge_across_m: float = 2.0
    merge_along: float = 0.6
    snap_joints_contrast: float | None = 0.1
    fill_max_m: float = 40.0
    fill_ends: bool = True
    fill_pitch_from_spacing: bool = True
    min_fill_probability: float = 0.2
    min_fill_end_probability: float = 0.3
    exemplar_rescue: bool = False
    exemplar_min_probability: float = 0.6
    exemplar_min_count: int = 4
    rescue_min_probability: float = 0.02
    rescue_min_similarity: float = 0.9
    rescue_chain: int = 3
    exemplar_along_m: float = 4.0
    exemplar_across_m: float = 5.5
    exemplar_top: int = 3

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def working_scale(gsd_m: float, params: DetectorParams) -> float:
    """The scale the detector resamples a window of ``gsd_m`` to (1: as it is): it works no finer
    than ``params.work_gsd_m``, so cars (about 3 m) and coupling gaps (0.6-1.5 m) stay resolved and
    very fine imagery costs less. (At 0.5 m, Muttenz's 0.25 m wagons lose precision: 0.77 against
    0.92 at native resolution.) The working GSD is ``gsd_m / working_scale(gsd_m, params)``."""
    return min(1.0, gsd_m / params.work_gsd_m)


def too_coarse(gsd_m: float, params: DetectorParams) -> bool:
    """Whether pixels of ``gsd_m`` are coarser than ``params.max_gsd_m`` (a hair over it is not), so that
    a window of them is not counted (:class:`~railcount.errors.TooCoarseError`)."""
    return gsd_m > params.max_gsd_m * (1.0 + 1e-6)
